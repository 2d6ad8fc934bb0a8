"""Page models: what each app page and the review show, built from the analysis layer."""
