"""信用门户: the public website's pages, the 双公示 lists, news and policy articles, and fair use of the public API."""
