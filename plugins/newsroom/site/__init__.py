"""The Pelican plugin: generators and output formats of the public site."""
