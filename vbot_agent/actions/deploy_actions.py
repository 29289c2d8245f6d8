"""Deployment actions: ``export`` and ``robustness`` (implemented in ``vbot_agent.deploy.commands``)."""

from vbot_agent.actions.registry import Action, Param

_POLICY = Param("policy", default="latest", help="checkpoint file, run folder (a curriculum stage's kept best, else best.pt, else last.pt), a curriculum stage's folder (its best.pt), 'latest' (the newest run's) or 'best' (the registry's best, as `vbot checkpoints --best`)")
_ENV = Param("env", help="with --policy best or latest: the env id whose registry best or newest run to take "
                         "(needed for best when several envs are registered)")

EXPORT = Action(
    name="export",
    summary="export a policy as ONNX (and TorchScript) with a JSON sidecar, its scene and episode starts",
    func="vbot_agent.deploy.commands:export",
    group="training",
    params=(
        _POLICY,
        _ENV,
        Param("onnx", "path", default="policy.onnx",
              help="ONNX file to write; the sidecar (.json), scene (.scene.xml), episode starts "
                   "(.episodes.json) and the torch-free player (onnx_player.py) go beside it"),
        Param("torchscript", "path", help="also write a TorchScript module here (.pt)"),
        Param("episodes", "int", default=32, min=1, max=4096,
              help="episode starts to write, those of `vbot play --episodes N --seed S`"),
        Param("seed", "int", default=0, help="episode seed of the starts"),
    ),
    render="vbot_agent.deploy.commands:render_export",
    epilog="Needs the export extra: pip install 'vbot-agent[export]'. Play the export without torch: "
           "python onnx_player.py policy.json (written beside the policy)",
)

ROBUSTNESS = Action(
    name="robustness",
    summary="success, falls and points of a policy across friction, mass, motor, push and latency perturbations",
    func="vbot_agent.deploy.commands:robustness",
    render="vbot_agent.deploy.commands:render_robustness",
    group="training",
    long_running=True,
    params=(
        _POLICY,
        _ENV,
        Param("episodes", "int", default=32, min=1, max=4096, help="episodes per grid cell (one per env)"),
        Param("seed", "int", default=0, help="episode seed (every cell sees the same spawns)"),
        Param("json_out", "path", flag="--json-out", help="write the report as JSON here"),
        Param("plot", "path", help="write a PNG heat map of success rates here"),
        Param("grid", default="default", choices=("default", "quick"),
              help="default: 29 cells; quick: 3 cells (smoke test)"),
    ),
)

ACTIONS: list[Action] = [EXPORT, ROBUSTNESS]
