"""The selection threshold beta against the plausibility factor alpha (6 runs)."""


def get_sweep():
    return [{'contrast.beta': beta, 'contrast.alpha': alpha} for beta in (0.2, 0.4, 0.8) for alpha in (0.1, 0.2)]
