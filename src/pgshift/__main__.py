from pgshift.cli.main import run

run()
