"""Monte Carlo experiments: design, runner, analysis (``symbiosim experiment`` / ``summarize``)."""
