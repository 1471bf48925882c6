metadb = { port = 3306 }
