import threading
import warnings

from spline_lstm.shared_quiet import SharedSwitch, warnings_ignored


def _overlap(switch, inside):
    """Thread a enters, b enters, a leaves, b leaves; ``inside()`` read in each at its last
    moment inside."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with switch():
            a_in.set()
            b_in.wait(5)
            seen["a"] = inside()
        a_out.set()

    def b():
        a_in.wait(5)
        with switch():
            b_in.set()
            a_out.wait(5)
            seen["b, after a left"] = inside()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seen


def _warning_shows() -> bool:
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn("a note", UserWarning, stacklevel=1)
    return bool(caught)


def test_overlapping_threads_keep_warnings_ignored_until_the_last_leaves():
    # catch_warnings(record=True) in the probe puts "default" filters first: probe the
    # filter list itself instead.
    def ignoring() -> bool:
        return bool(warnings.filters) and warnings.filters[0][0] == "ignore" and \
            warnings.filters[0][2] is Warning

    filters = list(warnings.filters)
    assert _overlap(warnings_ignored, ignoring) == {"a": True, "b, after a left": True}
    assert warnings.filters == filters  # put back as it was, not left ignoring
    assert _warning_shows()


def test_the_change_is_made_once_and_undone_once():
    made, undone = [], []

    def make():
        made.append(1)
        return lambda: undone.append(1)

    switch = SharedSwitch(make)
    assert _overlap(switch, lambda: len(made) == 1 and not undone) == {
        "a": True, "b, after a left": True}
    assert made == [1] and undone == [1]
    with switch():
        assert made == [1, 1]
    assert undone == [1, 1]
