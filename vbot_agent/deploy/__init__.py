"""Taking a trained policy out of the trainer: ONNX/TorchScript export with a deployer's sidecar
(``policy``, ``sidecar``), and robustness reports across physics perturbations (``robustness``).

The torch-free player that runs an export in plain MuJoCo is ``onnx_player.py`` (a standalone script
that ``vbot export`` copies beside the policy).
"""
