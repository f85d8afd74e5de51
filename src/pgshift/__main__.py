from pgshift.cli.main import main

raise SystemExit(main())
