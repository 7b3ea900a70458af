# Environment every forgekit command runs with: offline model maps, no telemetry.
export LITELLM_LOCAL_MODEL_COST_MAP=True
export MLFLOW_DISABLE_TELEMETRY=true
export DO_NOT_TRACK=1
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1
export TOKENIZERS_PARALLELISM=false
