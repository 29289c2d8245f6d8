"""The shipped templates: the workspace copies match the package's, and they resolve for real."""

from pathlib import Path

from vbot_agent.automl.campaign import check_search_space
from vbot_agent.automl.settings import resolve_settings
from vbot_agent.workspace.init import SEED_DIR, TEMPLATE_DIR, init_workspace, seed_files

REPO = Path(__file__).resolve().parents[2]


def test_repository_workspace_files_are_the_packaged_ones():
    assert {"templates/automl.yaml", "curricula/spawn_distance.yaml", "reward_library/default.yaml"} <= {
        str(p) for p in seed_files()}
    for name in seed_files():
        assert (REPO / "starter_kit_schedule" / name).read_text() == (SEED_DIR / name).read_text(), name


def test_automl_template_resolves_against_the_real_trainer_and_env():
    settings = resolve_settings(TEMPLATE_DIR / "automl.yaml", {})
    space = check_search_space(settings)  # every key through TrainConfig and the VBot reward terms
    assert any(k.startswith("reward.scales.") for k in space.params)
    assert any(k.startswith("ppo.") for k in space.params)
    assert space.known_good


def test_init_creates_the_workspace_and_keeps_edited_files(tmp_path):
    first = init_workspace(tmp_path)
    assert "starter_kit_schedule/templates/automl.yaml" in first["created"]
    for folder in ("templates", "reward_library", "progress", "checkpoints"):
        assert (tmp_path / "starter_kit_schedule" / folder).is_dir()
    assert (tmp_path / "starter_kit_log").is_dir()
    edited = tmp_path / "starter_kit_schedule/templates/automl.yaml"
    edited.write_text("mode: hp\n")
    second = init_workspace(tmp_path)
    assert edited.read_text() == "mode: hp\n" and "starter_kit_schedule/templates/automl.yaml" in second["kept"]
    # a new workspace is pointed at its first campaign; an existing one at where it stands
    assert "vbot automl" in first["next"] and second["next"] == "vbot status"


def test_vbot_init_command(tmp_path, capsys):
    from vbot_agent.cli import run

    assert run(["init", str(tmp_path / "new"), "--json"]) == 0
    assert "starter_kit_schedule/templates/search_space.yaml" in capsys.readouterr().out
    assert (tmp_path / "new/starter_kit_schedule/templates/curriculum_plan_template.yaml").is_file()
