"""What /docs shows a client: every route and request field says what it is (no server)."""

from spline_lstm.serving.app import DOCS_ASSETS, create_app
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


def _client(tmp_path, **settings):
    from fastapi.testclient import TestClient

    # no `with`: the champions' lifespan is not started, the pages need none
    return TestClient(create_app(ServeSettings(artifacts_dir=tmp_path, **settings), cache=None))


def test_the_docs_pages_load_everything_from_this_server(tmp_path):
    client = _client(tmp_path)
    for page, scripts in (("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")),
                          ("/redoc", ("redoc.standalone.js",))):
        html = client.get(page)
        assert html.status_code == 200 and "/openapi.json" in html.text
        assert "https://" not in html.text and "http://" not in html.text  # no CDN, no fonts
        for name in scripts:
            assert f'"{DOCS_ASSETS}/{name}"' in html.text, (page, name)
            asset = client.get(f"{DOCS_ASSETS}/{name}")
            assert asset.status_code == 200 and len(asset.content) > 100_000, name
    assert "3.1" in client.get("/openapi.json").json()["openapi"]  # Swagger UI 5 renders 3.1


def test_the_docs_pages_need_the_token_in_production(tmp_path):
    client = _client(tmp_path, dev_mode=False, token="s3cret")
    for path in ("/docs", f"{DOCS_ASSETS}/swagger-ui-bundle.js", "/openapi.json"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"X-API-Token": "s3cret"}).status_code == 200, path
