"""The Jinja helpers the theme's templates call, shared by the site's pages and the emails."""
