"""The real-image stream: SPIN's per-dataset shares, and a position that resumes exactly."""

import pytest
import torch

from mocap_hmr.data.real_stream import RealImageStream, sample_weights
from mocap_hmr.data.spin_dataset import DatasetError


class Numbered(torch.utils.data.Dataset):
    """A stand-in for SpinDataset: sample i of dataset d is an image filled with 1000 d + i,
    its betas[0] is the epoch the stream set (augmentations depend on it)."""

    def __init__(self, d: int, n: int):
        self.d, self.n, self.epoch = d, n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        betas = torch.zeros(10)
        betas[0] = self.epoch
        return {"images": torch.full((3, 2, 2), 1000.0 * self.d + i), "joints2d": torch.zeros(49, 3),
                "joints3d": torch.zeros(49, 3), "joints3d_conf": torch.zeros(49), "pose": torch.zeros(24, 3),
                "betas": betas,
                "has_smpl": torch.tensor(True), "has_3d": torch.tensor(False)}


def ids(batch):
    return batch.images[:, 0, 0, 0].long().tolist()


def test_spin_partition():
    sizes, shares = [10, 20, 30, 40], [0.3, None, None, 0.1]  # h36m, lsp, coco, mpi-inf as SPIN's MixedDataset
    w = sample_weights(sizes, shares)
    per_dataset = [w[:10].sum(), w[10:30].sum(), w[30:60].sum(), w[60:].sum()]
    torch.testing.assert_close(torch.stack(per_dataset), torch.tensor([0.3, 0.6 * 20 / 50, 0.6 * 30 / 50, 0.1],
                                                                      dtype=torch.float64))
    assert torch.allclose(w[10:30], w[10])  # within a dataset, samples are equally likely
    assert sample_weights(sizes, [None] * 4) is None
    for bad in ([0.7, 0.5, None, None], [0.5, 0.2, 0.1, 0.1], [-0.1, None, None, None]):
        with pytest.raises(DatasetError, match="mocap_spin.real: the shares"):
            sample_weights(sizes, bad)


def test_batches_follow_the_shares():
    stream = RealImageStream([Numbered(0, 50), Numbered(1, 5000)], 100, torch.device("cpu"), workers=0,
                             shares=[0.5, 0.5])
    drawn = torch.tensor([i for _ in range(10) for i in ids(stream.sample(100))])
    assert abs((drawn < 1000).float().mean().item() - 0.5) < 0.06  # the small dataset fills half, not 1%
    uniform = RealImageStream([Numbered(0, 50), Numbered(1, 4950)], 100, torch.device("cpu"), workers=0)
    first_epoch = [i for _ in range(50) for i in ids(uniform.sample(100))]
    assert sorted(first_epoch) == list(range(50)) + list(range(1000, 5950))  # a shuffle of the union


@pytest.mark.parametrize("shares", [None, [0.25, None]])
def test_resumed_stream_reads_the_same_batches(shares):
    def stream():
        return RealImageStream([Numbered(0, 7), Numbered(1, 6)], 4, torch.device("cpu"), seed=3, workers=0,
                               shares=shares)

    straight = stream()
    expected = [(ids(b), b.betas[:, 0].tolist()) for b in (straight.sample(4) for _ in range(8))]  # 3 per epoch
    first = stream()
    got = [(ids(b), b.betas[:, 0].tolist()) for b in (first.sample(4) for _ in range(4))]
    resumed = stream()
    resumed.load_state_dict(first.state_dict())
    got += [(ids(b), b.betas[:, 0].tolist()) for b in (resumed.sample(4) for _ in range(4))]
    assert got == expected
    assert [epochs[0] for _, epochs in expected] == [0, 0, 0, 1, 1, 1, 2, 2]
    assert expected[0][0] != expected[3][0]  # each epoch is a new order


def test_too_few_samples_and_wrong_batch_size():
    with pytest.raises(DatasetError, match="3 samples in all, fewer than the real half of a batch \\(4\\)"):
        RealImageStream([Numbered(0, 3)], 4, torch.device("cpu"), workers=0)
    with pytest.raises(ValueError, match="batches of 4, not 2"):
        RealImageStream([Numbered(0, 8)], 4, torch.device("cpu"), workers=0).sample(2)


def test_processes_deal_out_each_epoch_and_resume_with_another_count():
    def stream(rank=0, world_size=1):
        return RealImageStream([Numbered(0, 13)], 3, torch.device("cpu"), seed=5, workers=0, rank=rank,
                               world_size=world_size)

    one = stream()
    single = [ids(one.sample(3)) for _ in range(4)]  # epoch 0: 4 batches of 3 (one sample left over)
    ranks = [stream(r, 2) for r in range(2)]
    dealt = [[ids(s.sample(3)) for _ in range(2)] for s in ranks]
    assert dealt == [[single[0], single[2]], [single[1], single[3]]]  # in turn: no sample read twice
    assert [ids(s.sample(3)) for s in ranks][0] != single[0]  # both roll over into epoch 1 together
    half = stream(0, 2)
    half.sample(3)
    assert half.state_dict() == {"epoch": 0, "batch": 2}  # batches read by both processes
    resumed = stream()
    resumed.load_state_dict(half.state_dict())
    assert [ids(resumed.sample(3)) for _ in range(2)] == single[2:]
    with pytest.raises(DatasetError, match="fewer than the real half of a batch \\(3\\) on each of 5 processes"):
        stream(0, 5)
