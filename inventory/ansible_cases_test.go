package inventory

// ansibleCases are the inventories TestAnsibleOracle compares with
// ansible-inventory. Each host line or variable is one variant; a case
// groups many so that the oracle runs a few times, not hundreds.
var ansibleCases = []ansibleCase{
	{name: "host line quoting", files: map[string]string{"hosts": `[web]
q1 a=plain b="double quoted" c='single quoted' d="a # not a comment" e='a ; b' f="x=y" g=x=y
q2 a="quoted" # trailing comment
q4 a=x#comment b=2
q5 a="a\"b" b='a\b' c=a\ b d="a\\b" e=\#x f="" g=b"x" h=r'\n'
q6 a="'1'" b="1" c='"text with spaces"' d="'a' 'b'" e="u'x'"
`}},
	{name: "semicolon is no comment on a host line", bothRefuse: true, files: map[string]string{"hosts": "[web]\nq3 a='quoted' ; b=2\n"}},
	{name: "unclosed quote", bothRefuse: true, files: map[string]string{"hosts": "[web]\nq3 a='quoted\n"}},
	{name: "host line literals", files: map[string]string{"hosts": `[web]
l1 i=1 n=-5 z=0 o=010 h=0x10 oc=0o17 bn=0b11 us=1_000 f=1.5 e=1e3 d=.5 nf=-1.5 big=123456789012345678901234567890
l2 t=True f=False tl=true y=yes on=on n=None none=none
l3 l=[1,2] t=(1,) p=(1) e=[] d={} m="{'a':[1,None],'b':'x'}" s="['a', \"b\"]"
l4 bad=[1, x="{1:2}" y=(1,2
l5 ver=1.2.3 ip=10.0.0.1 path=/opt/oms time=12:30 neg=-x
`}},
	{name: "vars line quoting", files: map[string]string{"hosts": `[web]
w1
[web:vars]
v1=1
v2="a # b"
v3=bar # comment
v4="abc" # comment
v5='q' ; comment
v6=a=b
v7=True
v8= spaced value
v9=yes
v10 = spaced key
v11="a" "b"
v12='it''s'
v13=[1, 'two']
v14=x;y
v15=
v16="unterminated
v17=#hash
v18=-3
`}},
	{name: "booleans for become", files: map[string]string{"hosts": `[web]
b1 ansible_become=1
b2 ansible_become=0
b3 ansible_become=yes
b4 ansible_become=no
b5 ansible_become=on
b6 ansible_become=off
b7 ansible_become=true
b8 ansible_become=false
b9 ansible_become=True
b10 ansible_become=False
b11 ansible_become="yes"
b12 ansible_become=Y
b13
[web:vars]
ansible_become=1
`}},
	{name: "connection settings", files: map[string]string{"hosts": `[db]
d1 ansible_host=10.0.0.1 ansible_port=2201 ansible_user=admin ansible_ssh_private_key_file="/keys/my key"
d2 ansible_ssh_host=10.0.0.2 ansible_ssh_port="2202" ansible_ssh_user=root ansible_ssh_pass='p w#d' ansible_become_pass=123
d3:2203 ansible_host=10.0.0.3 ansible_password="quoted # pass"
[db:vars]
ansible_become=yes
`}},
	{name: "ipv6 and ports", files: map[string]string{"hosts": `[v6]
[2001:db8::30]:2222
2001:db8::31
[2001:db8::32]:2200 role=x
fe80::1 ansible_port=2201
host.example.com:2022
10.1.1.1:23
`}},
	{name: "ranges and children", files: map[string]string{"hosts": `[web]
web[01:03] ansible_port=22
web[a:b]:2200
[db]
db1 ansible_host=10.0.1.1
[prod:children]
web
db  # comment
[prod:vars]
tier=prod
[all:vars]
tier=base
region="eu # west"
[web:vars]
tier=front
`}},
	{name: "comments and blank lines", files: map[string]string{"hosts": `# a comment
; another
   # indented

[web]   # comment after section
  c1   a=1    # comment
c2	a=2	b=3
`}},
	{name: "conflicting redeclaration", refused: "Conflicting host declaration", files: map[string]string{"hosts": `[a]
h1 ansible_port=22
[b]
h1 ansible_port=23
`}},
	{name: "group_vars and host_vars", files: map[string]string{
		"hosts": `[web]
w1 ansible_host=10.0.0.1 x=line
w2 ansible_host=10.0.0.2
[db]
d1 ansible_host=10.0.0.3
[prod:children]
web
db
[web:vars]
order=web-ini
lone=web-ini
[all:vars]
order=all-ini
`,
		"group_vars/all.yml":        "order: all-file\nfrom_all: 1\n",
		"group_vars/web.yaml":       "order: web-file\nport: 0777\nflag: yes\nno_flag: off\nsci: 1e3\nflt: 1.5\nunder: 1_000\ntime: 12:30\nnothing: ~\nquoted: \"yes\"\nstr: !!str 12\nlist: [1, two, {three: 3}]\n",
		"group_vars/db":             "---\norder: db-file\nnested:\n  a: [x, y]\n  b: {c: null}\n",
		"group_vars/db.yml":         "order: never read, db comes first\n",
		"group_vars/prod/a.yml":     "base: &b {k1: 1, k2: 2}\nmerged:\n  <<: *b\n  k2: two\nprod_a: a\n",
		"group_vars/prod/b.json":    `{"prod_b": "b", "prod_a": "from b"}`,
		"group_vars/prod/sub/c.yml": "prod_c: c\n",
		"group_vars/prod/.hidden":   "prod_hidden: 1\n",
		"group_vars/prod/skip.txt":  "prod_txt: 1\n",
		"host_vars/w1.yml":          "ansible_host: 10.0.9.1\nx: file\nansible_become: yes\napi_password: 'p#w: d'\n",
		"host_vars/d1.json":         `{"ansible_port": 2201, "ansible_user": "dbadmin"}`,
		"host_vars/w2":              "",
	}},
	{name: "vault file", refused: "ansible-vault", files: map[string]string{
		"hosts":              "[web]\nw1\n",
		"group_vars/web.yml": "$ANSIBLE_VAULT;1.1;AES256\n6233\n",
	}},
	{name: "vault value", refused: "!vault", files: map[string]string{
		"hosts":              "[web]\nw1\n",
		"group_vars/web.yml": "pw: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6233\n",
	}},
	{name: "yaml inventory", inv: "hosts.yml", files: map[string]string{
		"hosts.yml": `all:
  vars:
    ansible_user: deploy
    tier: base
  hosts:
    lone:
      ansible_host: 10.0.0.9
  children:
    web:
      hosts:
        web[1:2]:
          http_port: 8080
        web9:2222:
      vars:
        tier: front
        flag: yes
        mode: 0755
    db:
      hosts:
        db1: {ansible_host: 10.0.1.1, ansible_become: on, nested: {a: [1, "two"]}}
      children:
        dbreplica:
          hosts:
            db2:
`,
		"group_vars/db.yml": "tier: data\n",
	}},
}
