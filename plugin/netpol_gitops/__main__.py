from netpol_gitops.cli import main

main()
