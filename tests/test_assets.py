"""Front-end packages are installed at set-up and served by the app itself."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from webapp import assets


@pytest.mark.parametrize(("source", "dest"), assets.FILES)
def test_each_front_end_package_file_is_served_by_the_app(
    client: FlaskClient, source: str, dest: str
) -> None:
    path = assets.BUILD / dest
    assert path.exists(), f"{dest} missing: run `npm ci && python -m webapp.assets`"
    if path.is_file():
        response = client.get(f"/static/build/{dest}")
        assert response.status_code == 200
        response.close()


def test_build_names_what_npm_did_not_install(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(FileNotFoundError, match="run `npm ci` first; missing: chart.js"):
        assets.build(node_modules=tmp_path, target=tmp_path / "out")
