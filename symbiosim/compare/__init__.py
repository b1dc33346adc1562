"""Comparison and incentives: the gap between the decentralised outcome and the optimum, who wins and loses, and the policies that close it."""
