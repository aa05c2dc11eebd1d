"""Pressure series: edge shift against Ni-O contraction, equations of state, gauges."""
