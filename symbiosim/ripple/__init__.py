"""Ripple effects (ringvirkninger): input-output multipliers (``iotable``, ``multipliers``)
and firms' ledgers. Layer 2: it reads files through ``symbiosim.scenario`` and knows
nothing of the planner or the simulator."""
