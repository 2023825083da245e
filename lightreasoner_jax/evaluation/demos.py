"""Few-shot demonstrations, per benchmark: (question, worked answer) pairs put before the question.

MMLU-STEM is evaluated 5-shot in the Qwen2.5-Math toolkit's convention: multiple-choice questions written as
the benchmark's own ('question\\nAnswer Choices: (A) ... (D) ...'), each answer reasoning briefly and ending
'The answer is (X).'. The toolkit uses five hand-written exemplars; these are our own five, written to the
same format and spread over the same kind of subjects (mathematics, biology, physics, chemistry,
programming). A run that must match the toolkit's prompt byte for byte can replace them
(`benchmarks.DEMOS[name] = ...` from Python, before evaluating).
"""

from __future__ import annotations

DEMOS: dict[str, tuple[tuple[str, str], ...]] = {
    'mmlu_stem': (
        ('What is the sum of the roots of x^2 - 7x + 10 = 0?\n'
         'Answer Choices: (A) -7 (B) 10 (C) 7 (D) 3',
         'For a quadratic x^2 + bx + c the roots add up to -b. Here b = -7, so the roots add up to 7 '
         '(they are 2 and 5). The answer is (C).'),
        ('Which organelle makes most of the ATP in a eukaryotic cell?\n'
         'Answer Choices: (A) The ribosome (B) The mitochondrion (C) The Golgi apparatus (D) The lysosome',
         'Aerobic respiration, which yields most of the cell\'s ATP, happens in the mitochondria. '
         'The answer is (B).'),
        ('A 2 kg cart accelerates at 3 m/s^2. What net force acts on it?\n'
         'Answer Choices: (A) 1.5 N (B) 5 N (C) 0.67 N (D) 6 N',
         'By Newton\'s second law F = ma = 2 kg x 3 m/s^2 = 6 N. The answer is (D).'),
        ('How many moles of water are in 36 g of water (H2O, molar mass 18 g/mol)?\n'
         'Answer Choices: (A) 2 (B) 0.5 (C) 18 (D) 36',
         'Moles are mass over molar mass: 36 g / 18 g/mol = 2 mol. The answer is (A).'),
        ('What does the Python expression len([1, [2, 3], 4]) evaluate to?\n'
         'Answer Choices: (A) 4 (B) 3 (C) 2 (D) An error',
         'The list has three elements: 1, the list [2, 3], and 4; len does not count nested elements. '
         'The answer is (B).'),
    ),
}
