"""The reconciler: plan and apply every target environment, honouring windows and verify."""
