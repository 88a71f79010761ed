from netpol_gitops.launch import main

main()
