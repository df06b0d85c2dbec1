"""What every benchmark script does last: print its report and, if asked, save it as JSON."""
import json


def finish(report: dict, print_report, json_path=None) -> int:
    """Print ``report`` with ``print_report``; write it to ``json_path`` if given; exit code 0."""
    print_report(report)
    if json_path:
        with open(json_path, "w") as fh:
            json.dump(report, fh, indent=2)
        print(f"\nwrote {json_path}")
    return 0
