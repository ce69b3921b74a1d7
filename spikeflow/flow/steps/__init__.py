"""The build steps that are not a back end's: front end, conversion, verification, folding, summary."""
