"""The crawler behind ``xfel-index crawl``: discovery, stat diff, extraction in worker processes."""
