"""Putting an audited build in front of readers: publish and deploy."""
