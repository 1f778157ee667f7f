"""The Lesson: nine steps a teacher can give on a projector, each one idea, one question for the class and one live
action, and the answer revealed from that action's own numbers. Torch-free: plain numbers in, sentences out.

The steps are data (`STEPS`) and each live action's plan (`*_plan`); cnn_dash.reveals writes each step's answer
from its run's numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from cnn_dash import experiments
from cnn_dash.limits import Limits
from cnn_dash.presets import quick_demo
from cnn_dash.specs import ModelConfig, TrainSettings
from cnn_dash.sweep import SweepPlan, plan_sweep

SHIFT = 3  # pixels: the shift step reads both curves here
SWEEP_MAX_IMAGES = 3_000  # the sweep's largest subset: the lesson's sweep ends within seconds, not minutes
SWEEP_MIN_STEPS = 100  # optimizer steps a small subset gets at least (the Training page's sweep: 500)
SWEEP_MAX_EPOCHS = 8  # every epoch ends with a test evaluation: on 100 images those cost more than the steps
SWEEP_BATCH = 32  # 100 images in batches of 256 would be one step an epoch
DECOMPOSE_MAX_IMAGES = 6_000  # the experiment's images and epochs at most: its 6,000 × 4 took 16 s on two cores,
DECOMPOSE_MAX_EPOCHS = 3  # over the step's 15 s; 6,000 × 3 on the bundled sample: 8 s of training (bench_lesson)
KEEP = "Keep it as drawn"  # the drawing step's label for the draw page's "Keep my drawing where and how big I drew it"


@dataclass(frozen=True)
class Notes:
    """What the teacher says, the misconception the class usually holds, and a question to ask next."""

    say: str
    misconception: str
    follow_up: str


@dataclass(frozen=True)
class Step:
    """One screen of the lesson: an idea (a heading and at most two sentences), a question with 2-4 answers shown
    before the action runs, the action's button, and the teacher's notes."""

    key: str
    title: str
    idea: str
    question: str
    answers: tuple[str, ...]
    action: str  # the button that runs the live action
    notes: Notes


STEPS: tuple[Step, ...] = (
    Step("shape", "A convolution looks through a small window",
         "A convolution slides one small grid of weights, a kernel, over the image and writes one number per "
         "position. The size of its output follows from exact arithmetic.",
         "A 5×5 kernel with stride 2 and padding 2 slides over a 28×28 image. How big is its output?",
         ("28×28", "24×24", "14×14", "12×12"), "Calculate",
         Notes("Point at the window in the picture: one output value sees only 25 of the 784 pixels.",
               "That a convolution keeps the image's size: only stride 1 with 'same' padding does.",
               "What would stride 1 give? And where do the extra rows go with no padding?")),
    Step("params", "A CNN can be small",
         "A fully-connected (FC) layer gives every pixel its own weight for every unit; a convolution reuses its "
         "few kernel weights at every position.",
         "The CNN and the FC net we are about to race: which one has more parameters?",
         ("The CNN, by far", "About the same", "The FC net, by far"), "Count the parameters",
         Notes("Read the two totals aloud, then show where the FC net's parameters sit: its first layer.",
               "That a network that learns more must have more parameters.",
               "How many weights would an FC layer need for a 1000×1000 photo with 128 units?")),
    Step("compute", "…but it works hard for its size",
         "Each kernel weight is used at every position it slides over, while an FC net uses each weight once per "
         "image. Parameters and arithmetic are two different budgets.",
         "For one image, which net does more multiply-adds?",
         ("The CNN", "About the same", "The FC net"), "Count the multiply-adds",
         Notes("Compare multiply-adds per parameter: reuse is what a convolution is.",
               "That fewer parameters means a faster network: on a GPU or CPU the arithmetic sets the time.",
               "Is comparing the two nets at the same number of epochs fair, when one computes more per image?")),
    Step("race", "The race: same images, same order",
         "Both nets train side by side on the same batches in the same order, from the same seed. Only the "
         "architecture differs.",
         "After two epochs, which net has the higher test accuracy?",
         ("The CNN", "The FC net", "A tie (within half a point)"), "Start the race",
         Notes("Let the class watch both numbers climb; stop talking while it runs.",
               "That the bigger net (more parameters) must win.",
               "Would the result change with more epochs? Try it on the Training page.")),
    Step("shuffle", "Shuffle the pixels",
         "We shuffle every image's pixels with one fixed permutation, the same for training and test. All the "
         "information is still there, but neighbours are no longer neighbours.",
         "The same two nets train on shuffled pixels. What happens to the CNN's lead?",
         ("It stays as large", "It shrinks", "It is gone or reversed"), "Train on shuffled pixels",
         Notes("Show a shuffled image on the Try-it-yourself page: to us it is noise, to the FC net nothing changed.",
               "That the CNN 'sees the digit' the way we do: it only assumes that neighbouring pixels belong together.",
               "Why does the FC net score about the same on shuffled pixels?")),
    Step("decompose", "Small windows, or shared weights?",
         "A CNN differs from an FC net twice: each unit sees a small window (locality), and one kernel is used at "
         "every position (weight sharing). A locally connected net has the windows without the sharing.",
         "Where does the CNN's lead over the FC net come from?",
         ("Mostly the small windows", "Mostly the shared weights", "Both, about equally",
          "There is no lead to split"), "Train the three nets",
         Notes("Read the three accuracies left to right: FC net, then windows added, then sharing added.",
               "That weight sharing is only a trick to save parameters: it also makes each kernel learn from every "
               "position of every image.",
               "For the same windows the locally connected net needs far more parameters than the CNN: which would "
               "you rather train on a phone?")),
    Step("shift", "Move the digit",
         "We take the race's trained nets and move every test image a few pixels up, down, left or right. "
         "Nothing is trained again.",
         f"Moved by {SHIFT} pixels, whose accuracy falls more?",
         ("The CNN's", "The FC net's", "About the same (within 2 points)"), "Shift the test images",
         Notes("Point at the gap between the curves at 3 pixels: same digits, only moved.",
               "That a network which recognises a digit recognises it anywhere.",
               "What could we do so that the FC net copes with moved digits? (Train it on moved copies.)")),
    Step("sweep", "Fewer images",
         "We train both nets again on 100, 300, 1,000 and 3,000 training images; each smaller set is part of the "
         "larger ones.",
         "To match the FC net's best accuracy, how many training images does the CNN need?",
         ("Several times fewer", "About as many", "More: it never catches up"), "Run the sweep",
         Notes("Read the chart left to right: at every size the CNN's line is above, or the gap says why not.",
               "That a better architecture only helps with lots of data.",
               "Which costs more in practice: labelling images, or computing longer?")),
    Step("draw", "Your own digit",
         "Draw a digit (or upload a photo) and both nets from the race answer. It is scaled and centred as MNIST's "
         f"images were, unless you tick *{KEEP}* (where and how big you drew it).",
         "Will the two nets read it correctly?",
         ("Both", "Only the CNN", "Only the FC net", "Neither"), "Ask both nets",
         Notes("Ask a student to dictate a digit, draw it badly, and let the class vote before it answers.",
               "That 98% test accuracy means it reads any handwriting: the test set is drawn like the training set.",
               f"Tick '{KEEP}' and draw small in a corner: which net still reads it? (The draw page "
               "measures both on a thousand moved and shrunk test digits.)")),
)
STEP_KEYS = tuple(s.key for s in STEPS)


def step(key: str) -> Step:
    """The step named `key`."""
    return STEPS[STEP_KEYS.index(key)]


def race_plan(dataset: str, train_size: int) -> tuple[TrainSettings, tuple[ModelConfig, ...]]:
    """The race: the Training page's Quick demo on the dataset in use, on at most its training images."""
    settings, models = quick_demo(dataset)
    return replace(settings, train_subset=min(settings.train_subset, train_size)), models


def shuffle_plan(dataset: str, train_size: int) -> tuple[TrainSettings, tuple[ModelConfig, ...]]:
    """The race again on shuffled pixels."""
    settings, models = race_plan(dataset, train_size)
    return replace(settings, permute_pixels=True), models


def sweep_plan(dataset: str, train_size: int, limits: Limits) -> SweepPlan:
    """The Training page's data-efficiency sweep of the race's nets, shortened for a class: up to SWEEP_MAX_IMAGES
    images, batches of SWEEP_BATCH, at least SWEEP_MIN_STEPS steps and at most SWEEP_MAX_EPOCHS epochs a size."""
    settings, models = race_plan(dataset, train_size)
    short = replace(limits, max_train_subset=min(SWEEP_MAX_IMAGES, limits.max_train_subset),
                    max_epochs=min(SWEEP_MAX_EPOCHS, limits.max_epochs))
    return plan_sweep(replace(settings, batch_size=SWEEP_BATCH), models, train_size, short, SWEEP_MIN_STEPS)


def decomposition_plan(dataset: str, train_size: int, limits: Limits) -> tuple[TrainSettings, tuple[ModelConfig, ...]]:
    """The Training page's "Locality vs sharing" experiment as it would train there within these limits, on at most
    DECOMPOSE_MAX_IMAGES images and DECOMPOSE_MAX_EPOCHS epochs: its three nets, one of them with 2.5 million
    parameters, must end within seconds."""
    short = replace(limits, max_train_subset=min(DECOMPOSE_MAX_IMAGES, limits.max_train_subset),
                    max_epochs=min(DECOMPOSE_MAX_EPOCHS, limits.max_epochs))
    exp = experiments.fitted(experiments.decomposition(dataset), short, train_size)
    return exp.settings, exp.models
