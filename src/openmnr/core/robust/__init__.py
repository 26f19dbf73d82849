"""Matching that survives the edits people make to pictures they re-upload.

- ``trim``: finding the picture inside a solid or blurred border;
- ``probes``: the PDQ hashes of a query's likely edits undone (turns and mirrors, a border
  trimmed, small rotations, a cut side refilled), looked up together, with the radius of the
  extra probes lowered so that they do not add false matches;
- ``features``: local features (ORB keypoints checked by a similarity transform), an option for
  small banks that recognises cropped, framed and rotated copies PDQ cannot.

bench/robustness.py measures each against PDQ alone; docs/matching.md has the table.
"""
