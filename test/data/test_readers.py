"""Dataset readers: every layout from small fixture folders, layout detection, and bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers import detect_layout, load_sequence, load_sequences
from rgbt_tracker_ros.data.readers.common import natural_key

HEIGHT, WIDTH = 24, 32


def _write_frames(folder: Path, names: list[str], colour: bool) -> None:
    folder.mkdir(parents=True)
    for index, name in enumerate(names):
        if colour:
            image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
            image[:, :, 2] = 200  # red in OpenCV's BGR order
            image[0, 0, 0] = index
        else:
            image = np.full((HEIGHT, WIDTH), 10 * index, np.uint8)
        assert cv2.imwrite(str(folder / name), image)


def _write_lines(path: Path, rows, separator: str) -> None:
    path.write_text("\n".join(separator.join(str(v) for v in row) for row in rows) + "\n")


BOXES = [[1, 2, 10, 12], [2, 3, 10, 12], [3, 4, 11, 12]]
CORNERS = [[x, y, x + w, y + h] for x, y, w, h in BOXES]


def make_gtot(root: Path, name: str = "BlackCar") -> Path:
    seq = root / name
    _write_frames(seq / "v", [f"{i:05d}v.png" for i in range(3)], colour=True)
    _write_frames(seq / "i", [f"{i:05d}i.png" for i in range(3)], colour=False)
    _write_lines(seq / "groundTruth_v.txt", CORNERS, " ")
    _write_lines(seq / "groundTruth_i.txt", [[x + 1, y, x2 + 1, y2] for x, y, x2, y2 in CORNERS], "\t")
    _write_lines(seq / "init.txt", BOXES[:1], " ")
    return seq


def make_rgbt234(root: Path, name: str = "afterrain") -> Path:
    seq = root / name
    _write_frames(seq / "visible", [f"{i:05d}v.jpg" for i in range(1, 4)], colour=True)
    _write_frames(seq / "infrared", [f"{i:05d}i.jpg" for i in range(1, 4)], colour=False)
    _write_lines(seq / "visible.txt", BOXES, ",")
    _write_lines(seq / "infrared.txt", [[x + 2, y, w, h] for x, y, w, h in BOXES], ",")
    return seq


def make_lasher(root: Path, name: str = "2ndblkboy1", init_only: bool = False) -> Path:
    seq = root / name
    _write_frames(seq / "visible", [f"v{i:03d}.jpg" for i in range(3)], colour=True)
    _write_frames(seq / "infrared", [f"i{i:03d}.jpg" for i in range(3)], colour=False)
    rows = BOXES[:2] + [[0, 0, 0, 0]]
    if init_only:
        _write_lines(seq / "init.txt", rows, ",")
    else:
        _write_lines(seq / "visible.txt", rows, ",")
        _write_lines(seq / "infrared.txt", rows, ",")
    return seq


def make_vtuav(root: Path, name: str = "animal_001", frames: int = 25, rows: int = 3) -> Path:
    seq = root / name
    _write_frames(seq / "rgb", [f"{i:06d}.jpg" for i in range(1, frames + 1)], colour=True)
    _write_frames(seq / "ir", [f"{i:06d}.jpg" for i in range(1, frames + 1)], colour=False)
    boxes = [[5 + k, 6, 10, 8] for k in range(rows)]
    _write_lines(seq / "rgb.txt", boxes, " ")
    _write_lines(seq / "ir.txt", [[x + 1, y, w, h] for x, y, w, h in boxes], " ")
    return seq


def make_folder(root: Path, name: str = "plain", cameras=("visible", "infrared"), frames: int = 11) -> Path:
    seq = root / name
    names = [f"{i}.png" for i in range(1, frames + 1)]  # unpadded: 10.png must sort after 9.png
    for camera in cameras:
        _write_frames(seq / camera, names, colour=camera == "visible")
    rows = [[i, i, 5, 5] for i in range(frames)]
    rows[1] = ["NaN"] * 4
    text = "\n".join(("\t" if i % 2 else ",").join(str(v) for v in row) for i, row in enumerate(rows))
    (seq / "groundtruth.txt").write_text(text + "\n\n")
    return seq


def test_gtot(tmp_path):
    sequence = load_sequence(make_gtot(tmp_path))
    assert sequence.protocol == "gtot" and sequence.name == "BlackCar" and len(sequence) == 3
    np.testing.assert_allclose(sequence.groundtruth, BOXES)
    np.testing.assert_allclose(sequence.groundtruth_thermal[:, 0], np.array(BOXES)[:, 0] + 1)
    visible, thermal = sequence.frame(2)
    assert visible.shape == (HEIGHT, WIDTH, 3) and visible[0, 1, 0] > 150  # RGB order: red first
    assert thermal.shape == (HEIGHT, WIDTH) and thermal[0, 0] == 20


def test_gtot_init_only(tmp_path):
    seq = make_gtot(tmp_path)
    (seq / "groundTruth_v.txt").unlink()
    (seq / "groundTruth_i.txt").unlink()
    sequence = load_sequence(seq)
    np.testing.assert_allclose(sequence.groundtruth[0], BOXES[0])
    assert np.all(np.isnan(sequence.groundtruth[1:]))
    assert sequence.first_annotated() == 0


def test_rgbt234(tmp_path):
    sequence = load_sequence(make_rgbt234(tmp_path))
    assert sequence.protocol == "rgbt234" and len(sequence) == 3
    np.testing.assert_allclose(sequence.groundtruth, BOXES)
    assert sequence.groundtruth_thermal[0, 0] == BOXES[0][0] + 2
    assert sequence.visible[0].shape == (HEIGHT, WIDTH, 3)


@pytest.mark.parametrize("init_only", [False, True])
def test_lasher(tmp_path, init_only):
    seq = make_lasher(tmp_path, init_only=init_only)
    assert detect_layout(seq) == "lasher"
    sequence = load_sequence(seq)
    assert sequence.protocol == "lasher" and len(sequence) == 3
    np.testing.assert_allclose(sequence.groundtruth[2], [0, 0, 0, 0])  # absent target
    assert (sequence.groundtruth_thermal is None) == init_only


def test_vtuav_sparse_boxes_expand_to_every_frame(tmp_path):
    sequence = load_sequence(make_vtuav(tmp_path))
    assert sequence.protocol == "vtuav" and len(sequence) == 25
    annotated = np.flatnonzero(np.all(np.isfinite(sequence.groundtruth), axis=1))
    assert annotated.tolist() == [0, 10, 20]
    np.testing.assert_allclose(sequence.groundtruth[20], [7, 6, 10, 8])
    np.testing.assert_allclose(sequence.groundtruth_thermal[10], [7, 6, 10, 8])


def test_vtuav_more_rows_than_frames_is_an_error(tmp_path):
    with pytest.raises(InputError, match="rgb.txt"):
        load_sequence(make_vtuav(tmp_path, frames=20, rows=3))


def test_plain_folder_natural_order_and_nan_rows(tmp_path):
    sequence = load_sequence(make_folder(tmp_path))
    assert sequence.protocol == "otb" and len(sequence) == 11
    assert [p.name for p in sequence.visible.paths][8:] == ["9.png", "10.png", "11.png"]
    assert np.all(np.isnan(sequence.groundtruth[1]))
    np.testing.assert_allclose(sequence.groundtruth[10], [10, 10, 5, 5])


def test_plain_folder_thermal_only(tmp_path):
    sequence = load_sequence(make_folder(tmp_path, cameras=("infrared",)))
    assert sequence.visible is None and sequence.modalities == "thermal"
    assert sequence.thermal[10].ndim == 2


def test_detect_layout_of_each_fixture(tmp_path):
    assert detect_layout(make_gtot(tmp_path)) == "gtot"
    assert detect_layout(make_rgbt234(tmp_path)) == "rgbt234"
    assert detect_layout(make_vtuav(tmp_path)) == "vtuav"
    assert detect_layout(make_folder(tmp_path)) == "folder"
    assert detect_layout(tmp_path / "nothing") is None


def test_dataset_root_loads_sequences_sorted_by_name(tmp_path):
    for name in ("seq10", "seq9", "seq1"):
        make_rgbt234(tmp_path, name)
    (tmp_path / "attributes").mkdir()  # not a sequence: ignored
    sequences = load_sequences(tmp_path)
    assert [s.name for s in sequences] == ["seq1", "seq9", "seq10"]
    assert [s.name for s in load_sequences(tmp_path / "seq9")] == ["seq9"]


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_sequence(tmp_path / "missing")
    with pytest.raises(InputError, match="not a sequence folder"):
        load_sequence(tmp_path)
    with pytest.raises(InputError, match="neither a sequence folder"):
        load_sequences(tmp_path)
    (tmp_path / "empty" / "visible").mkdir(parents=True)
    (tmp_path / "empty" / "groundtruth.txt").write_text("1,2,3,4\n")
    with pytest.raises(InputError, match="no image frames"):
        load_sequence(tmp_path / "empty")


def test_missing_groundtruth(tmp_path):
    seq = make_folder(tmp_path)
    (seq / "groundtruth.txt").unlink()
    with pytest.raises(InputError, match="groundtruth.txt"):
        load_sequence(seq)
    seq = make_gtot(tmp_path)
    for name in ("groundTruth_v.txt", "groundTruth_i.txt", "init.txt"):
        (seq / name).unlink()
    with pytest.raises(InputError, match="GTOT"):
        load_sequence(seq)


def test_malformed_line_names_file_and_line(tmp_path):
    seq = make_rgbt234(tmp_path)
    (seq / "visible.txt").write_text("1,2,3,4\n2,3,4,5\n3,x,4,5\n")
    with pytest.raises(InputError, match=r"visible\.txt, line 3"):
        load_sequence(seq)
    (seq / "visible.txt").write_text("1,2,3,4\n2,3,4\n3,4,4,5\n")
    with pytest.raises(InputError, match=r"line 2"):
        load_sequence(seq)


def test_frame_count_mismatch(tmp_path):
    seq = make_rgbt234(tmp_path)
    (seq / "infrared" / "00003i.jpg").unlink()
    with pytest.raises(InputError, match="3 visible frames.*2 infrared frames"):
        load_sequence(seq)


def test_row_count_mismatch(tmp_path):
    seq = make_folder(tmp_path, frames=4)
    (seq / "groundtruth.txt").write_text("1,1,5,5\n" * 5)
    with pytest.raises(InputError, match="5 boxes but the sequence has 4 frames"):
        load_sequence(seq)
    (seq / "groundtruth.txt").write_text("1,1,5,5\n" * 3)
    with pytest.raises(InputError, match="3 boxes"):
        load_sequence(seq)


def test_truncated_image_fails_when_read(tmp_path):
    seq = make_rgbt234(tmp_path)
    path = seq / "visible" / "00002v.jpg"
    path.write_bytes(path.read_bytes()[:20])
    sequence = load_sequence(seq)
    sequence.visible[0]
    with pytest.raises(InputError, match="00002v.jpg"):
        sequence.visible[1]


def test_natural_key():
    names = ["10.png", "9.png", "v100.jpg", "v20.jpg"]
    assert sorted(names, key=natural_key) == ["9.png", "10.png", "v20.jpg", "v100.jpg"]


def test_real_thermal_sequences(real_data):
    # Read in place from the shared folder (never copied into the repository); skipped without it.
    sequences = load_sequences(real_data)
    by_name = {s.name: s for s in sequences}
    assert {"ptbtir_airplane_tir_only", "vottir_birds_tir_only"} <= set(by_name)
    airplane = by_name["ptbtir_airplane_tir_only"]
    assert airplane.protocol == "otb" and airplane.modalities == "thermal" and len(airplane) == 380
    assert airplane.thermal[0].shape == (356, 473)
    np.testing.assert_allclose(airplane.groundtruth[0], [420, 136, 53, 130])
    birds = by_name["vottir_birds_tir_only"]
    assert len(birds) == 270 and birds.thermal[269].shape == (480, 640)
    assert np.all(np.isfinite(birds.groundtruth))
