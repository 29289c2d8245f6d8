"""Taking a trained policy out of the trainer: ONNX/TorchScript export with a deployer's sidecar
(``policy``, ``sidecar``), and robustness reports across physics perturbations (``robustness``).

The torch-free player that runs an export in plain MuJoCo is ``examples/onnx_player.py``.
"""
