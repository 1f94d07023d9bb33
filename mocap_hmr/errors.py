"""Error types. Every message names the file or config key, what is wrong, and what was expected."""


class MocapHMRError(Exception):
    """Base class of the errors this project raises on bad input."""


class ModelFileError(MocapHMRError, ValueError):
    """A body model file is missing, unreadable, or not an SMPL model."""


class ModelNotFoundError(ModelFileError, FileNotFoundError):
    """No body model file where one was expected."""


class InputShapeError(MocapHMRError, ValueError):
    """A tensor argument has the wrong shape."""
