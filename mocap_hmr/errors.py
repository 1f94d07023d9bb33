"""Error types. Every message names the file or config key, what is wrong, and what was expected."""


class MocapHMRError(Exception):
    """Base class of the errors this project raises on bad input."""


class ModelFileError(MocapHMRError, ValueError):
    """A body model file is missing, unreadable, or not an SMPL model."""


class ModelNotFoundError(ModelFileError, FileNotFoundError):
    """No body model file where one was expected."""


class InputShapeError(MocapHMRError, ValueError):
    """A tensor argument has the wrong shape."""


class TrainingDiverged(MocapHMRError):
    """The loss became NaN or inf: step, the step it became so at (1-based); loss, its value."""

    def __init__(self, message: str, step: int, loss: float):
        super().__init__(message)
        self.step, self.loss = step, loss
