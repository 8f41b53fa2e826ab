"""Pictures: derivatives and what their files say about themselves."""
