"""The suite leaves nothing behind in the system temp folder."""

import os
import subprocess
import sys
import tempfile

from tests.conftest import SESSION_TMP


def test_this_process_and_its_children_write_temp_files_into_the_session_folder(tmp_path):
    assert tempfile.gettempdir() == os.environ["TMPDIR"] == SESSION_TMP
    assert str(tmp_path).startswith(SESSION_TMP)  # pytest's own tmp_path too
    child = subprocess.run(
        [sys.executable, "-c", "import tempfile, dask; print(tempfile.gettempdir()); "
         "print(dask.config.get('temporary-directory') or tempfile.gettempdir())"],
        capture_output=True, text=True, check=True)
    assert child.stdout.split() == [SESSION_TMP, SESSION_TMP]
