"""What /docs shows a client: every route and request field says what it is (no server)."""

from spline_lstm.serving.app import create_app
from spline_lstm.serving.settings import ServeSettings


def test_every_route_and_request_field_is_described(tmp_path):
    schema = create_app(ServeSettings(artifacts_dir=tmp_path), cache=None).openapi()
    operations = [(path, op) for path, ops in schema["paths"].items() for op in ops.values()]
    assert len(operations) == 5
    for path, op in operations:
        assert op.get("summary") and op.get("description"), path
    models = schema["components"]["schemas"]
    for name in ("ForecastRequest", "History", "ManyRequest"):
        for field, spec in models[name]["properties"].items():
            assert spec.get("description"), f"{name}.{field}"
    assert models["ForecastRequest"]["examples"][0]["model"]
    forecast = schema["paths"]["/api/v1/forecast"]["post"]
    assert "lo_<level>" in forecast["description"] and "422" in forecast["responses"]
