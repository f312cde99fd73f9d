"""Batch order, CS-KD's same-class pairs and DDP shards (focuslib.loader)."""

from __future__ import annotations

import torch

from focuslib.loader import batch_indices, epoch_generator, same_class_partners

TARGETS = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 3])  # class 3 has a single member


def test_partners_share_the_class_and_a_singleton_pairs_with_itself():
    partners = same_class_partners(TARGETS, torch.Generator().manual_seed(0))
    assert torch.equal(TARGETS[partners], TARGETS)
    assert partners[9] == 9


def test_paired_batches_are_b_samples_then_their_partners():
    batches = batch_indices(TARGETS, 4, torch.Generator().manual_seed(1), paired=True)
    assert [len(b) for b in batches] == [8, 8, 4]  # 4+4, 4+4, 2+2
    for b in batches:
        half = len(b) // 2
        assert torch.equal(TARGETS[b[:half]], TARGETS[b[half:]])
    assert sorted(torch.cat([b[: len(b) // 2] for b in batches]).tolist()) == list(range(10))


def test_epoch_order_is_a_function_of_seed_and_epoch():
    a = batch_indices(TARGETS, 3, epoch_generator(0, 5))
    b = batch_indices(TARGETS, 3, epoch_generator(0, 5))
    c = batch_indices(TARGETS, 3, epoch_generator(0, 6))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not all(torch.equal(x, y) for x, y in zip(a, c))


def test_ddp_ranks_split_each_global_batch_without_overlap():
    full = batch_indices(TARGETS, 4, epoch_generator(3, 0), rank=0, world_size=1)
    shards = [batch_indices(TARGETS, 2, epoch_generator(3, 0), rank=r, world_size=2) for r in range(2)]
    for step, batch in enumerate(full):
        together = torch.cat([shards[r][step] for r in range(2)])
        assert sorted(together.tolist()) == sorted(batch.tolist())
