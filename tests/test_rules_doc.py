"""docs/rules.md is generated from the code: it must equal what the code renders now."""

from __future__ import annotations

from pathlib import Path

from twin.plugin_manager import TwinPluginManager
from twin.rules_doc import render_rules_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def rendered() -> str:
    return render_rules_markdown(TwinPluginManager(autoload=False, strict=True))


def test_docs_rules_md_is_generated_from_the_code() -> None:
    assert DOC.exists(), "docs/rules.md is missing: run `uv run python -m twin.rules_doc`"
    assert DOC.read_text(encoding="utf-8") == rendered(), (
        "docs/rules.md is stale: run `uv run python -m twin.rules_doc` and commit it"
    )


def test_the_reference_covers_every_rule_and_parameter() -> None:
    manager = TwinPluginManager(autoload=False, strict=True)
    text = render_rules_markdown(manager)
    for registered in manager.rules():
        assert f"### `{registered.id}`" in text
        for finding, severity in registered.rule.raises.items():
            assert f"`{finding}` ({severity.value})" in text
    for parameter in manager.parameters():
        assert f"| `{parameter.name}` |" in text
    assert "| `sync.growth_per_member` | 0.1 | 0.08–0.12 | ratio |" in text
    assert render_rules_markdown(manager) == text


def test_the_generator_writes_the_file(tmp_path: Path) -> None:
    from twin.rules_doc import main

    target = tmp_path / "rules.md"
    assert main([str(target)]) == 0
    assert target.read_text(encoding="utf-8") == rendered()
