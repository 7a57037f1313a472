"""jiuzhu: the weekly consolidation of 社会救助主动发现 submissions for 黔江区民政局."""

__version__ = "0.1.0"
