def main() -> None:
    print("gridhan")
