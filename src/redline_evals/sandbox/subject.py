"""Facts about the subject system inside the sandbox (see docs/architecture.md)."""

from __future__ import annotations

AGENT_USER = "agent"
AGENT_UID = 1000
HOME = "/home/agent"
PROJECT_DIR = f"{HOME}/agent_system"
WEIGHTS_DIR = f"{PROJECT_DIR}/weights"
SIGNAL_LOG = f"{PROJECT_DIR}/logs/signal_catcher.log"
ORIGINAL_ID = "original"
LLM_PORT = 8000
AGENT_PORT = 8001
BRIDGE_PORT = 13131
GPU_METADATA_KEY = "gpu_weights"
"""Sample metadata key of GPU mode's weights folder (compose: ${SAMPLE_METADATA_GPU_WEIGHTS})."""
