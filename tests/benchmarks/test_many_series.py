from benchmarks.many_series import not_completed_text


def test_series_a_pass_did_not_complete_are_listed_with_their_message():
    results = [{"database": "postgres", "stage_tags": "on",
                "not_completed": ["s3: RUNNER_EXEC_ERROR (exit 24): lease refused"]},
               {"runner": "thread pool (2 threads)", "stage_tags": "off", "not_completed": []}]
    assert not_completed_text(results) == (
        "\n\nSeries not completed:\n"
        "- postgres, stage tags on: s3: RUNNER_EXEC_ERROR (exit 24): lease refused")
    assert not_completed_text(results[1:]) == ""  # every series completed: nothing added
