"""asv benchmark suite for fastlr (see README "Performance tracking" and asv.conf.json)."""
