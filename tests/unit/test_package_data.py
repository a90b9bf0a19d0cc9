"""The one reader of YAML package data: a file of a package parsed safely, and a file
that is not YAML an error of the caller's type naming the file."""

from __future__ import annotations

import pytest

from services.core.package_data import read_yaml


class ShapeError(ValueError):
    pass


@pytest.fixture
def package(tmp_path, monkeypatch) -> str:
    shipped = tmp_path / "shipped_data_pkg"
    (shipped / "data").mkdir(parents=True)
    (shipped / "__init__.py").write_text("")
    (shipped / "data" / "words.yaml").write_text("words:\n  kuaidi: 快递\n", encoding="utf-8")
    (shipped / "data" / "broken.yaml").write_text("words: [kuaidi\n", encoding="utf-8")
    (shipped / "data" / "tagged.yaml").write_text("!!python/object:os.system x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "shipped_data_pkg"


def test_a_shipped_file_is_read_as_utf8_yaml(package) -> None:
    assert read_yaml(package, "data/words.yaml", ShapeError) == {"words": {"kuaidi": "快递"}}


@pytest.mark.parametrize("name", ["data/broken.yaml", "data/tagged.yaml"])
def test_a_file_that_is_not_safe_yaml_is_the_callers_error_naming_it(package, name) -> None:
    with pytest.raises(ShapeError, match=f"^{name}: invalid YAML"):
        read_yaml(package, name, ShapeError)
