"""A stand-in model for the command adapter: JSON request on stdin, JSON answer on stdout.

Summary: the first N words of the story text. Claims: the first three non-empty lines of the story,
with their spans in the text. Options let tests count calls, slow it down, make it fail or hang.
"""

import argparse
import json
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counter", help="append one line per call to this file")
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--words", type=int, default=30)
    parser.add_argument("--fail", action="append", default=[], help="exit 1 on this doc_id")
    parser.add_argument("--hang", action="append", default=[], help="sleep 30 s on this doc_id")
    parser.add_argument("--garbage", action="append", default=[], help="print invalid JSON on this doc_id")
    args = parser.parse_args()
    request = json.loads(sys.stdin.read())
    doc_id, task = request["doc_id"], request["task"]
    if args.counter:
        with open(args.counter, "a", encoding="utf-8") as out:
            out.write(f"{doc_id} {task}\n")
    if doc_id in args.fail:
        print(f"boom on {doc_id}", file=sys.stderr)
        return 1
    if doc_id in args.hang:
        time.sleep(30)
    time.sleep(args.sleep)
    if doc_id in args.garbage:
        print("{not json")
        return 0
    story = request["story_text"]
    if task == "summary":
        print(json.dumps({"summary": " ".join(story.split()[: args.words])}))
    else:
        lines = [line.strip() for line in story.split("\n") if line.strip()][:3]
        text = request["text"]
        claims = [{"text": line, "span": [text.find(line), text.find(line) + len(line)]} for line in lines]
        print(json.dumps({"claims": claims}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
