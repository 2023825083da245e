"""The training loss: the formula, and packed vs per-position batching giving the same loss and gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from lightreasoner_jax.models import load_hf
from lightreasoner_jax.models.lora import LoraConfig, add_lora
from lightreasoner_jax.training import batches as train_data
from lightreasoner_jax.training.loss import batch_kl, kl_to_targets
from lightreasoner_jax.training.objectives import OBJECTIVES
from tests.tiny_models import build_torch_model
from tests.train_fixtures import VOCAB, synthetic_records


def test_kl_to_targets_equals_the_formula():
    rng = np.random.RandomState(0)
    logits = rng.randn(2, 3, 11).astype(np.float32) * 2
    ids = np.array([[[1, 4, 0], [2, 0, 0], [7, 8, 9]], [[3, 0, 0], [5, 6, 0], [10, 1, 2]]], np.int32)
    weights = np.array([[[0.5, 0.5, 0], [1, 0, 0], [0.2, 0.3, 0.5]], [[1, 0, 0], [0.9, 0.1, 0], [0.4, 0.4, 0.2]]],
                       np.float32)
    mask = np.array([[True, True, False], [True, True, True]])
    total, count = kl_to_targets(jnp.asarray(logits), jnp.asarray(ids), jnp.asarray(weights), jnp.asarray(mask))
    expected = 0.0
    for b in range(2):
        for m in range(3):
            if not mask[b, m]:
                continue
            logp = logits[b, m] - np.log(np.exp(logits[b, m]).sum())
            v = np.zeros(11)
            for i, w in zip(ids[b, m], weights[b, m]):
                v[i] += w
            nz = v > 0
            expected += np.sum(v[nz] * (np.log(v[nz]) - logp[nz]))
    assert int(count) == 5
    np.testing.assert_allclose(float(total), expected, rtol=1e-5)


@pytest.fixture(scope='module')
def lora_model(tmp_path_factory):
    path = tmp_path_factory.mktemp('expert')
    build_torch_model('qwen2_untied', VOCAB, seed=5).save_pretrained(path)
    model = load_hf(path, dtype=jnp.float32)
    add_lora(model, LoraConfig(targets=('q_proj', 'v_proj', 'down_proj'), rank=4, dropout=0.0), nnx.Rngs(0))
    keys = iter(jax.random.split(jax.random.key(1), 100))
    for _, var in nnx.to_flat_state(nnx.state(model, nnx.LoRAParam)):
        var.set_value(var.get_value() + 0.05 * jax.random.normal(next(keys), var.get_value().shape))
    return model


def loss_and_grads(model, batch):
    graphdef, trainable, frozen = nnx.split(model, nnx.LoRAParam, ...)

    def loss(params):
        total, count = 0.0, 0.0
        for a in range(batch.input_ids.shape[0]):
            micro = train_data.TrainBatch(*(jnp.asarray(x[a]) for x in batch))
            s, c = batch_kl(nnx.merge(graphdef, params, frozen), micro, None)
            total, count = total + s, count + c
        return total / count
    value, grads = jax.jit(jax.value_and_grad(loss))(trainable)
    return float(value), grads


@pytest.mark.parametrize('grad_accum', [1, 2])
def test_packed_and_per_position_agree(lora_model, grad_accum):
    records = synthetic_records(6, seed=3)
    per_record = train_data.training_positions(records, OBJECTIVES['contrast'])
    schedule = train_data.UpdateSchedule(per_record, positions_per_update=16, seed=0)
    positions = schedule.positions(0)
    assert len({p.record for p in positions}) >= 2  # the update spans several answers
    K = train_data.max_targets(per_record)
    results = {}
    for mode in ('packed', 'per_position'):
        config = train_data.BatchConfig(mode=mode, positions_per_update=16, grad_accum=grad_accum, length_bucket=8)
        batch = train_data.update_batches(positions, records, config, K)
        assert int(batch.position_mask.sum()) == 16
        results[mode] = (batch, *loss_and_grads(lora_model, batch))
    packed, per_position = results['packed'], results['per_position']
    assert packed[0].input_ids.shape[1] < per_position[0].input_ids.shape[1]  # fewer rows when packed
    assert packed[1] == pytest.approx(per_position[1], abs=1e-5)
    for a, b in zip(jax.tree.leaves(packed[2]), jax.tree.leaves(per_position[2])):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    assert max(float(jnp.abs(g).max()) for g in jax.tree.leaves(packed[2])) > 1e-4


def test_schedule_is_a_pure_function_of_the_step():
    records = synthetic_records(5, seed=4)
    per_record = train_data.training_positions(records, OBJECTIVES['contrast'])
    a = train_data.UpdateSchedule(per_record, 4, seed=7)
    b = train_data.UpdateSchedule(per_record, 4, seed=7)
    total = a.total
    first_epoch = [p for u in range(-(-total // 4)) for p in a.positions(u)][:total]
    assert sorted((p.record, p.step) for p in first_epoch) == sorted(
        (i, t) for i, r in enumerate(records) for t in r.steps)  # an epoch is each position once
    assert b.positions(11) == a.positions(11) and b.positions(2) == a.positions(2)
    assert train_data.UpdateSchedule(per_record, 4, seed=8).positions(0) != a.positions(0)


def test_min_kl_and_expert_weights_select_other_targets():
    records = synthetic_records(4, seed=5)
    all_steps = sum(len(r.steps) for r in records)
    high = train_data.training_positions(records, OBJECTIVES['contrast'], min_kl=1.0)
    assert 0 < sum(map(len, high)) < all_steps
    assert all(records[p.record].kl[records[p.record].steps.index(p.step)] >= 1.0 for ps in high for p in ps)
    assert sum(map(len, train_data.training_positions(records, OBJECTIVES['all_steps'], min_kl=1.0))) == all_steps
    expert = train_data.training_positions(records, OBJECTIVES['expert_only'])
    assert expert[0][0].target_weights == tuple(records[0].expert_weights[0])
    assert expert[0][0].target_weights != tuple(records[0].target_weights[0])
    records[1].expert_weights = None
    with pytest.raises(ValueError, match="record 'r1' has no expert_weights"):
        train_data.training_positions(records, OBJECTIVES['expert_only'])


def test_random_steps_draw_as_many_steps_per_answer_as_kl_selection_keeps():
    records = synthetic_records(8, seed=6)
    kept = train_data.training_positions(records, OBJECTIVES['contrast'], min_kl=1.0)
    drawn = train_data.training_positions(records, OBJECTIVES['random_steps'], min_kl=1.0, seed=0)
    assert [len(k) for k in kept] == [len(d) for d in drawn]  # the same count, answer by answer
    assert sum(map(len, drawn)) > 0
    assert [[p.step for p in d] for d in drawn] != [[p.step for p in k] for k in kept]  # not the KL's choice
    assert all(p.target_weights == tuple(records[p.record].target_weights[records[p.record].steps.index(p.step)])
               for d in drawn for p in d)  # contrastive targets
    again = train_data.training_positions(records, OBJECTIVES['random_steps'], min_kl=1.0, seed=0)
    other = train_data.training_positions(records, OBJECTIVES['random_steps'], min_kl=1.0, seed=1)
    assert again == drawn and other != drawn
    with pytest.raises(ValueError, match='random_steps objective needs train.min_kl'):
        train_data.training_positions(records, OBJECTIVES['random_steps'])


def test_all_steps_expert_trains_every_step_on_the_experts_own_targets():
    records = synthetic_records(4, seed=5)
    positions = train_data.training_positions(records, OBJECTIVES['all_steps_expert'], min_kl=1.0)
    assert sum(map(len, positions)) == sum(len(r.steps) for r in records)
    assert positions[0][0].target_weights == tuple(records[0].expert_weights[0])


def test_padding_to_a_planned_shape_leaves_loss_and_gradients_unchanged(lora_model):
    records = synthetic_records(6, seed=3)
    per_record = train_data.training_positions(records, OBJECTIVES['contrast'])
    schedule = train_data.UpdateSchedule(per_record, positions_per_update=16, seed=0)
    positions, K = schedule.positions(0), train_data.max_targets(per_record)
    config = train_data.BatchConfig(positions_per_update=16, length_bucket=8)
    own = train_data.update_batches(positions, records, config, K)
    rows, length = own.input_ids.shape[1:]
    padded = train_data.update_batches(positions, records, config, K, shapes=[(rows + 2, length + 24), (99, 999)])
    assert padded.input_ids.shape[1:] == (rows + 2, length + 24)  # the smallest planned shape that fits
    (a, ga), (b, gb) = loss_and_grads(lora_model, own), loss_and_grads(lora_model, padded)
    assert a == pytest.approx(b, abs=1e-6)
    for x, y in zip(jax.tree.leaves(ga), jax.tree.leaves(gb)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=1e-6)
    with pytest.raises(ValueError, match='no planned batch shape holds'):
        train_data.update_batches(positions, records, config, K, shapes=[(rows, length - 8)])
