"""Model config YAML: an unknown or malformed key in a section is a ConfigError naming the section and the key."""

from pathlib import Path

import pytest

from spikeflow.cli import main
from spikeflow.errors import ConfigError
from spikeflow.frontend.config import load_config

LAYERS = "layers: [{type: conv, channels: 4}, {type: maxpool}]\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text("name: t\ninput_size: 32\n" + text)
    return path


@pytest.mark.parametrize(("text", "message"), [
    (LAYERS + "train: {epochs: 3}\n",
     r"model\.yaml: train: unknown key 'epochs' \(known: batch_size, checkpoint_minutes, epochs_float, epochs_qat, "
     r"eval_each_epoch, freeze_bn_epochs, lr, seed, train_images, val_images, weight_decay, workers\)"),
    ("layers: [{type: conv, channels: 4, padding: 1}]\n",
     r"model\.yaml: layers\[0\]: unknown key 'padding' \(known: channels, kernel, stride, type, weight_bits\)"),
    (LAYERS + "train: 5\n", r"model\.yaml: train: expected a mapping, got 5"),
])
def test_unknown_or_malformed_section_key_is_named_with_its_section(tmp_path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_empty_train_section_takes_the_defaults(tmp_path) -> None:
    assert load_config(write(tmp_path, LAYERS + "train:\n")).train.epochs_qat == 10


def test_cli_prints_the_unknown_train_key_on_one_line(tmp_path, capsys) -> None:
    config = write(tmp_path, LAYERS + "train: {epochs: 3}\n")
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "train: unknown key 'epochs' (known: batch_size, " in err
    assert "__init__" not in err
