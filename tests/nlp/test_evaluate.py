from nlp.evaluate import evaluate, format_report


def test_macro_f1_over_gold_labels_only():
    gold = ["repair", "repair", "complaint", "complaint"]
    pred = ["repair", "complaint", "complaint", "other"]
    report = evaluate(gold, pred, ("complaint", "repair", "other"))
    assert report.labels == ["complaint", "repair"]  # "other" is not a gold label
    assert report.accuracy == 0.5
    p, r, f, s = report.per_label["complaint"]
    assert (p, r, s) == (0.5, 0.5, 2)
    assert abs(report.macro_f1 - (0.5 + 2 / 3) / 2) < 1e-9
    assert format_report(report).splitlines()[-1] == "accuracy=0.500 macro_f1=0.583 n=4"
