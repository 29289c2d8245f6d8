"""The tool list and the checks every call goes through (no SDK transport needed here)."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from vbot_agent.actions import REGISTRY
from vbot_agent.errors import UsageError
from vbot_agent.mcp_server.tools import (
    JOB_TOOLS,
    JSON_TYPES,
    NOT_TOOLS,
    Toolbox,
    plain,
    tool_name,
    tool_specs,
)


def test_every_action_is_a_tool_whose_schema_comes_from_its_params():
    specs = {s.name: s for s in tool_specs(REGISTRY)}
    assert set(specs) == {tool_name(a.name) for a in REGISTRY if a.name not in NOT_TOOLS} | {a.name for a in JOB_TOOLS}
    for action in REGISTRY:
        if action.name in NOT_TOOLS:
            assert tool_name(action.name) not in specs
            continue
        spec = specs[tool_name(action.name)]
        schema = spec.input_schema
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert spec.description.startswith(action.summary) and f"vbot {action.name}" in spec.description
        assert ("job_id" in spec.description) == action.long_running
        offered = [p for p in action.params if not (action.name == "ask" and p.name == "run")]
        assert list(schema["properties"]) == [p.name for p in offered]
        assert schema.get("required", []) == [p.name for p in offered if p.required]
        for p in offered:
            prop = schema["properties"][p.name]
            item = prop["items"] if p.repeat else prop
            assert (prop["type"] == "array") == p.repeat
            assert item["type"] == JSON_TYPES[p.type]
            assert item.get("enum") == (list(p.choices) if p.choices is not None else None)
            assert item.get("minimum") == p.min and item.get("maximum") == p.max
            assert prop.get("default") == p.default


def test_tool_names_are_valid_mcp_names():
    for spec in tool_specs(REGISTRY):
        assert re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", spec.name), spec.name
        assert re.fullmatch(r"[a-z0-9_]+", spec.name), f"{spec.name}: one spelling, the words joined by _"


def test_the_skill_names_every_long_tool():
    """The training-pipeline skill lists the tools that answer with a job_id: all of them, by their names."""
    from vbot_agent.agent.skills import default_skills_dir

    text = (default_skills_dir() / "training-pipeline" / "SKILL.md").read_text()
    listed = re.search(r"Long actions \(([^)]*)\)", text.replace("\n", " ")).group(1)
    assert set(re.findall(r"`([a-z_]+)`", listed)) == {tool_name(a.name) for a in REGISTRY if a.long_running}


def test_a_valid_call_passes_the_schema_and_the_registry(workspace):
    toolbox = Toolbox(REGISTRY, workspace)
    args = {"env": "vbot_navigation_section001", "num_envs": 64, "overrides": ["ppo.learning_rate=3e-4"]}
    jsonschema.validate(args, toolbox.specs["train"].input_schema)
    spec, params = toolbox.check("train", args)
    assert spec.action.name == "train" and params["num_envs"] == 64 and params["overrides"] == ["ppo.learning_rate=3e-4"]
    assert params["max_env_steps"] == REGISTRY.get("train").param("max_env_steps").default  # defaults filled


@pytest.mark.parametrize(("tool", "args", "message"), [
    ("train", {"num_envs": "many"}, "--num-envs: expected int, got 'many'"),
    ("train", {"num_env": 8}, "no parameter 'num_env' (did you mean num_envs"),
    ("train", {"num_envs": 0}, "below the minimum"),
    ("skills_export", {}, "--target is required"),
    ("skills_export", {"target": "cursor"}, "'cursor' is not one of claude, agents"),
    ("trian", {}, "unknown tool 'trian' (did you mean trial or train?)"),
    ("ask", {"task": "train a policy", "run": True}, "no parameter 'run'"),  # run the proposed tool instead
    ("tui", {}, "unknown tool 'tui'"),
    ("job_status", {}, "job_id is required"),
    ("job_log", {"job_id": 1, "lines": 0}, "lines: 0 is below the minimum 1"),
])
def test_bad_arguments_are_refused_with_the_registry_message(workspace, tool, args, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        Toolbox(REGISTRY, workspace).check(tool, args)


@pytest.mark.parametrize("image", ["../outside.png", "/tmp/elsewhere/scene.png", "link/scene.png"])
def test_paths_outside_the_workspace_are_refused(workspace, tmp_path, image):
    (workspace / "link").symlink_to(tmp_path)  # a symlink inside that leads outside
    with pytest.raises(UsageError, match="outside the workspace"):
        Toolbox(REGISTRY, workspace).check("view", {"image": image})
    Toolbox(REGISTRY, workspace).check("view", {"image": "out/scene.png"})  # inside: accepted


def test_results_become_plain_json():
    assert plain({"a": np.float32(0.5), "b": np.int64(3), "p": Path("/x/y")}) == {"a": 0.5, "b": 3, "p": "/x/y"}
