"""The thin HTTP skin: blueprints, templates, locale and error pages."""
