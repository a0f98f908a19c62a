"""Configuration: the README's example loads, and mistakes name the key at fault."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.config import ConfigError, load_config


def test_the_readme_example_is_a_valid_configuration(tmp_path: Path) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", Path("README.md").read_text(encoding="utf-8"), re.S)
    example = next(b for b in blocks if "[[sources]]" in b)
    path = tmp_path / "maillage.toml"
    path.write_text(example)
    config = load_config(path)
    assert {s.kind for s in config.sources} == {"mediawiki", "communecter", "hub", "website", "jsonapi"}
    for source in config.sources:  # a shipped mapping the example names loads as it is
        if source.kind == "jsonapi" and source.mapping:
            from connectors.jsonapi.mapping import load_mapping
            assert load_mapping(Path(source.mapping)).endpoints
    assert config.api.service_allowlist and config.store.backend == "oxigraph"
    for source in config.sources:
        assert not any("password" in v.lower() and "_" not in v for v in source.credentials.values()), \
            "credentials name environment variables, never secrets"


@pytest.mark.parametrize("text,fragment", [
    ("[hub]\nbase_iri = 'https://x.org/id'\n", "base_iri"),
    ("[api]\nportt = 1\n", "portt"),
    ("[[sources]]\nname = 'a'\nkind = 'ftp'\nurl = 'x'\n", "kind"),
    ("[[sources]]\nname = 'a'\nkind = 'hub'\n", "url"),
    ("[[sources]]\nname='a'\nkind='hub'\nurl='x'\n[[sources]]\nname='a'\nkind='hub'\nurl='y'\n", "share"),
    ("[hub\n", "invalid TOML"),
])
def test_mistakes_are_named(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_config(path)


def test_data_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[hub]\ndata_dir = 'from-file'\n")
    assert load_config(path).data_dir == Path("from-file")
    monkeypatch.setenv("MAILLAGE_DATA", "from-env")
    assert load_config(path).data_dir == Path("from-env")
    assert load_config(path, Path("from-flag")).data_dir == Path("from-flag")
