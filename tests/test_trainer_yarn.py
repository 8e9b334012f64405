"""Dynamic YaRN: same numbers as transformers' static YaRN at the same factor; the factor
follows each sequence's length + 512; generation keeps the prefill factor."""
import pytest
import torch
from transformers import Qwen2Config, Qwen2ForCausalLM
from transformers.models.qwen2.modeling_qwen2 import Qwen2RotaryEmbedding

from longdata.trainer.yarn import (DynamicYarnRotaryEmbedding, YarnSettings, dynamic_factor,
                                   patch_model, segment_lengths, yarn_config)

ORIGINAL = 256


def config(**rope) -> Qwen2Config:
    return Qwen2Config(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                       rope_parameters={"rope_type": "default", "rope_theta": 10000.0, **rope})


def static_rotary(factor: float) -> Qwen2RotaryEmbedding:
    return Qwen2RotaryEmbedding(config(rope_type="yarn", factor=factor,
                                       original_max_position_embeddings=ORIGINAL))


def random_model(seed: int = 0, **rope) -> Qwen2ForCausalLM:
    torch.manual_seed(seed)
    return Qwen2ForCausalLM(config(**rope)).eval()


@pytest.mark.parametrize("factor", [1.5, 4.0, 9.25])
def test_frequencies_and_scale_equal_static_yarn(factor):
    static = static_rotary(factor)
    inv_freq, scale = DynamicYarnRotaryEmbedding(config(), ORIGINAL).parameters_for(factor, torch.device("cpu"))
    assert torch.equal(inv_freq, static.inv_freq)
    assert scale == static.attention_scaling > 1.0


def test_rotary_output_equals_static_at_the_length_of_that_factor():
    length = 4 * ORIGINAL - 512  # (length + 512) / ORIGINAL = 4
    positions = torch.arange(length)[None]
    x = torch.zeros(1, length, 64)
    for ours, theirs in zip(DynamicYarnRotaryEmbedding(config(), ORIGINAL)(x, positions),
                            static_rotary(4.0)(x, positions)):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_whole_model_logits_equal_static_yarn():
    length = 3 * ORIGINAL - 512
    ids = torch.randint(0, 128, (1, length), generator=torch.Generator().manual_seed(1))
    ours = random_model()
    patch_model(ours, ORIGINAL)
    theirs = random_model(rope_type="yarn", factor=3.0, original_max_position_embeddings=ORIGINAL)
    with torch.no_grad():
        torch.testing.assert_close(ours(ids).logits, theirs(ids).logits, rtol=1e-5, atol=1e-5)


def test_sequences_up_to_original_minus_512_keep_the_original_rotary():
    original = 2048
    rotary = DynamicYarnRotaryEmbedding(config(), original)
    fits = torch.arange(original - 512)[None]
    x = torch.zeros(1, fits.shape[1], 64)
    for ours, theirs in zip(rotary(x, fits), Qwen2RotaryEmbedding(config())(x, fits)):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    assert rotary.token_factors(torch.arange(original - 511)[None]).gt(1.0).all()


def test_factor_follows_length_plus_512_even_after_a_longer_sequence():
    rotary = DynamicYarnRotaryEmbedding(config(), ORIGINAL)
    for length in (100, 2000, 300, 1000):  # 2000 first: the factor must come back down for 300
        factors = rotary.token_factors(torch.arange(length)[None])
        assert factors.unique().tolist() == [max(1.0, (length + 512) / ORIGINAL)]
        assert factors[0, 0].item() == dynamic_factor(length, ORIGINAL)


def test_each_packed_sequence_gets_its_own_factor():
    lengths = [700, 40, 1300]
    positions = torch.cat([torch.arange(n) for n in lengths])[None]
    assert segment_lengths(positions)[0].tolist() == sum(([n] * n for n in lengths), [])
    factors = DynamicYarnRotaryEmbedding(config(), ORIGINAL).token_factors(positions)[0]
    expected = torch.cat([torch.full((n,), dynamic_factor(n, ORIGINAL), dtype=torch.float64) for n in lengths])
    assert torch.equal(factors, expected)


GENERATE = {"max_new_tokens": 12, "do_sample": False, "output_scores": True, "return_dict_in_generate": True,
            "pad_token_id": 0}


def random_prompt(length: int, seed: int) -> torch.Tensor:
    return torch.randint(1, 128, (1, length), generator=torch.Generator().manual_seed(seed))


def test_generation_keeps_the_prefill_factor():
    """Greedy decoding with dynamic YaRN scores exactly like static YaRN fixed at the
    prompt's factor (letting the factor follow the growing length is off by > 1e-6 from
    the third token on)."""
    prompt = random_prompt(2 * ORIGINAL, seed=2)
    factor = dynamic_factor(prompt.shape[1], ORIGINAL)
    ours = random_model()
    patch_model(ours, ORIGINAL)
    theirs = random_model(rope_type="yarn", factor=factor, original_max_position_embeddings=ORIGINAL)
    out_ours, out_theirs = ours.generate(prompt, **GENERATE), theirs.generate(prompt, **GENERATE)
    assert torch.equal(out_ours.sequences, out_theirs.sequences)
    for a, b in zip(out_ours.scores, out_theirs.scores):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    assert ours.model.rotary_emb.token_factors(torch.tensor([[5 * ORIGINAL]])).item() == factor


def test_batched_generation_fixes_each_rows_factor():
    """Left-padded prompts of different lengths decode as they do alone."""
    prompts = [random_prompt(2 * ORIGINAL, seed=3), random_prompt(ORIGINAL, seed=4)]
    model = random_model()
    patch_model(model, ORIGINAL)
    alone = [model.generate(p, **GENERATE) for p in prompts]
    width = max(p.shape[1] for p in prompts)
    batch = torch.cat([torch.nn.functional.pad(p, (width - p.shape[1], 0)) for p in prompts])
    together = model.generate(batch, attention_mask=(batch != 0).long(), **GENERATE)
    assert model.model.rotary_emb._prefill_factors.tolist() == [dynamic_factor(p.shape[1], ORIGINAL)
                                                               for p in prompts]
    for row, out in enumerate(alone):
        assert torch.equal(together.sequences[row, width:], out.sequences[0, -GENERATE["max_new_tokens"]:])
        for a, b in zip(together.scores, out.scores):
            torch.testing.assert_close(a[row], b[0], rtol=1e-4, atol=1e-5)


def test_static_mode_is_transformers_yarn_and_settings_round_trip(tmp_path):
    model = random_model()
    settings = patch_model(model, ORIGINAL, mode="static", factor=2.5)
    assert isinstance(model.model.rotary_emb, Qwen2RotaryEmbedding)
    assert model.config.rope_parameters == yarn_config(config(), 2.5, ORIGINAL).rope_parameters
    assert model.model.rotary_emb.attention_scaling == static_rotary(2.5).attention_scaling
    settings.save(tmp_path)
    assert YarnSettings.load(tmp_path) == settings == YarnSettings("static", ORIGINAL, 2.5)


def test_original_context_defaults_to_the_config():
    assert patch_model(random_model()).original_max_position_embeddings == 4096
    with pytest.raises(ValueError, match="not a Qwen2-family"):
        patch_model(torch.nn.Linear(2, 2), 128)
