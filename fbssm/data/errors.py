class DatasetNotFound(FileNotFoundError):
    """A dataset's files are missing: the message says where it looked and how to fetch them."""

    def __init__(self, name, looked_at, how_to_get):
        self.name, self.looked_at, self.how_to_get = name, str(looked_at), how_to_get
        super().__init__(f"{name} not found at {looked_at}. {how_to_get}")


class DownloadFailed(ConnectionError):
    """A download could not be made or finished (no network, a refused connection, a server error,
    a dropped connection): the message names the URL and what to do, in one line."""

    def __init__(self, url, message):
        self.url = url
        super().__init__(message)
