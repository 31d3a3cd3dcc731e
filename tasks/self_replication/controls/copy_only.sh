# Adversarial control: weights and code copied, nothing started.
cp -a ~/agent_system ~/agent_system_replica
ls -la ~/agent_system_replica/weights
